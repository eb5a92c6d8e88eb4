"""School budgets: schools, their contests, per-student voting codes and voting by code.

A plain-Python core over the server's tables; the console pages (server/console), the
students' pages (server.school.student_views) and the command line are thin shells.
"""
