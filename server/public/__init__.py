"""Pages anyone can open without signing in."""
