"""Use cases, free of Discord and terminal types: the bot and the CLI both call these."""
