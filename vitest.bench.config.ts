import { defineConfig } from "vitest/config"

/** `npm run bench`: the benchmarks that need vitest's TypeScript resolution (multi-host ones). */
export default defineConfig({
  test: {
    include: ["bench/**/*.netns.ts", "bench/**/*.simbench.ts"],
    testTimeout: 0,
    hookTimeout: 0
  }
})
