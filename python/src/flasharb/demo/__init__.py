"""The demo: the main job on a local chain (anvil + replica + executor + a seeded market + the bot)."""
