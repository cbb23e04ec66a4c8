/** Preloaded by `bun test` (bunfig.toml): test runs log warnings and errors only, unless SKIFF_LOG_LEVEL says otherwise. */
process.env.SKIFF_LOG_LEVEL ??= "warn";
