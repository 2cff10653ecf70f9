"""The demo city that plays itself: a day of reports compressed into minutes (`make run`)."""
