"""School contests within a community. Built in its own issue."""
