import { defineConfig } from "vitest/config"

/** `npm run sim`: the long simulation campaigns, kept out of `npm test`. */
export default defineConfig({
  test: {
    include: ["test/**/*.sim.ts"],
    testTimeout: 0
  }
})
