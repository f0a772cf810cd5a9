"""The scenario runner: YAML scenarios of CLI, API and HTTP steps with assertions, polling and time control."""
