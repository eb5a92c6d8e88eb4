"""Background jobs: long work (a stack of scans, a voter list) runs on a job worker
while the console shows its progress. The design: docs/jobs.md.

- store: the job table's rules (create, claim, fenced progress, finish, cancel);
- runner: one run of a job, with its heartbeat and its end;
- queue: Huey (Redis in production, a SQLite file for the demo), carrying job ids;
- worker: `spilno server jobs-worker`, Huey's consumer plus the sweeper;
- kinds: what each kind of job does.

The queue is made when a job is first enqueued (server.jobs.queue.queue_of): an app
that starts no job opens no queue, and a SQLite queue's file is created only then.
"""
