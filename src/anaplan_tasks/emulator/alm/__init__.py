"""ALM in the emulator: structural differences, revisions, syncs and their reports."""
