/** Preloaded by `bun test` (bunfig.toml): test runs log warnings and errors only, unless SKIFF_LOG_LEVEL says otherwise. */
process.env.SKIFF_LOG_LEVEL ??= "warn";
// Objects shared between in-process informers are frozen in tests, so code that mutates a cached object fails (core/api/object-channel.ts).
process.env.SKIFF_CACHE_MUTATION_DETECTOR ??= "1";
