"""`grabber serve`: the HTTP server (Redash/Grafana data source, JSON API, dashboard page).

state.py holds the data and refreshes it, view.py renders and filters it, app.py has the
routes, guard.py the authentication and limits, runner.py runs it under uvicorn.
"""
