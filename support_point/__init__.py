"""The support point: the app staff run at a paper-ballot desk. Its command line
(`spilno ballots`: print forms, read a scanner's folder or a camera, commit ready sheets
to the device log), the issue desk that hands a resident a personal sheet, and the
review page where the operator decides unclear marks. Reading, forms and review rules
are the paper library's (paper/)."""
