"""Wiring: the aiohttp application, the Bot Framework adapter, the Teams handler and the CLI."""
