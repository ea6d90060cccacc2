"""A local emulator of Anaplan's bulk and ALM API, with a real task engine on SQLite."""
