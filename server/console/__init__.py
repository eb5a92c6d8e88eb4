"""The moderators' console: cycles, categories, projects, devices, users, audit log."""
