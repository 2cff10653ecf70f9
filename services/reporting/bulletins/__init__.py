"""周通报 / 月报告, reporting's one feature folder: `figures` (what a bulletin says, from the
issue facts), `render` and `charts` (Markdown, HTML, inline SVG), `service` (gathered from the
store), `schedule` (written when due), `http` (the routes), `__main__` (`python -m
services.reporting.bulletins`). Periods are the one period arithmetic, domain/period.py."""
