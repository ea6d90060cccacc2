"""Checks run by outside clients (in their own environments) against the emulator."""
