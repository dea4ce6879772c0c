"""Storage: the engine factory, schema set-up, TOML sync and dump. Never imports Textual."""
