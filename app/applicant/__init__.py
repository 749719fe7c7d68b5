"""The applicant's side (issue 13), as feature services above the case-file layer: online
requests and their confirmation (online.py), the status lookup, query and SMS codes and answers
to a correction notice sent online (status.py). They check uploads as the case file does
(app.casefile.uploads) and write through the services below; the views are app/web/public.py,
app/web/status.py and app/web/online.py."""
