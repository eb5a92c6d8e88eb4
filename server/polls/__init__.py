"""Polls on the server: polls made and published (store), answers stored exactly once
with one counted answer per voter (answers), and the count as one SQL aggregate
(count). The rules are the domain's (voting/polls.py, voting/poll_count.py); the
integration API's routes are server/api/polls.py; docs/polls.md."""
