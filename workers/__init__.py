"""Worker processes hosting workflows and activities, one task queue per concern."""
