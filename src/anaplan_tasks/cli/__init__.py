"""The `anaplan-tasks` command line."""
