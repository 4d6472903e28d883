/**
 * The Spread client: an Effect service ({@link SpreadClient}) and a Promise/listener facade
 * ({@link SpreadConnection}) over one connection to a Spread 4.4/5.0 daemon or ours.
 */
export * from "./Errors.js"
export type { AuthMethod, ConnectOptions } from "./Options.js"
export { type MulticastOptions, type ServiceType, ServiceTypes } from "./Outgoing.js"
export { SpreadClient, type SpreadClientService, type SpreadMessage } from "./SpreadClient.js"
export * from "./SpreadConnection.js"
export {
  AGREED_MESS,
  CAUSAL_MESS,
  type DataMessage,
  equalGroupIds,
  FIFO_MESS,
  type GroupId,
  type MembershipCause,
  type MembershipMessage,
  type RejectMessage,
  RELIABLE_MESS,
  SAFE_MESS,
  SELF_DISCARD,
  type SelfLeaveMessage,
  type TransitionMessage,
  UNRELIABLE_MESS,
  type Version
} from "../Protocol/index.js"
