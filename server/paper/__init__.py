"""Paper ballots on the server, in one room: paper-vote CSVs from support points
(vote_csv), scanned sheets read, reviewed and committed (scans, scan_store), tally
sheets of a count done by hand (tally, tally_csv, tally_sheet, tally_results), their
messages in both languages, the console pages (import_pages, scan_pages, tally_pages)
and `spilno paper-scans` (scans_cli). Reading, forms and the review rules are the paper
library's (paper/); the templates are in server/templates/console/."""
