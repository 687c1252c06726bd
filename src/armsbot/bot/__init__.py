"""The Discord adapter: turns interactions into service calls, and cards into embeds."""
