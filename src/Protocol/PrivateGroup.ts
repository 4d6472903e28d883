/**
 * Private groups `#<private name>#<daemon name>` (client-protocol §1, §5.3 item 2, §8.4).
 */
import { isLegalNameByte, MAX_PRIVATE_NAME, MAX_PROC_NAME } from "./Constants.js"

export const privateGroupOf = (privateName: string, daemonName: string): string => `#${privateName}#${daemonName}`

export interface PrivateGroupParts {
  readonly privateName: string
  readonly daemonName: string
}

const allLegal = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (!isLegalNameByte(s.charCodeAt(i))) return false
  return true
}

/** Splits `#priv#proc` (priv 1..10 and proc 1..19 legal characters), or undefined if malformed. */
export const parsePrivateGroup = (name: string): PrivateGroupParts | undefined => {
  if (name.charCodeAt(0) !== 0x23) return undefined
  const second = name.indexOf("#", 1)
  if (second < 2 || second - 1 > MAX_PRIVATE_NAME) return undefined
  const privateName = name.slice(1, second)
  const daemonName = name.slice(second + 1)
  if (daemonName.length < 1 || daemonName.length > MAX_PROC_NAME - 1) return undefined
  if (!allLegal(privateName) || !allLegal(daemonName)) return undefined
  return { privateName, daemonName }
}

export const isPrivateGroupName = (name: string): boolean => name.charCodeAt(0) === 0x23
