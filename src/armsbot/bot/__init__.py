"""The Discord adapter: a thin layer that turns interactions into service calls and cards into embeds."""
