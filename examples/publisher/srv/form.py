"""The mod_python manual's publisher example (tutorial, "A More Complicated Example"):
`email` receives the form's fields as arguments. The manual mails the comment to the
webmaster; here the message is shown instead, so the example needs no mail server."""

import html

from mod_python import Session

WEBMASTER = "webmaster"  # the manual's recipient


def email(req, name, email, comment):
    # make sure the user provided all the parameters
    if not (name and email and comment):
        return "A required parameter is missing, please go back and correct the error"

    # the message the manual sends with smtplib
    msg = (f"From: {email}\nSubject: feedback\nTo: {WEBMASTER}\n\n"
           f"I have the following comment:\n\n{comment}\n\nThank You,\n\n{name}\n")

    req.content_type = "text/html"
    return (f"<html><body><p>Dear {html.escape(name)},<br>\n"
            f"Thank You for your kind comments, we will get back to you shortly.</p>\n"
            f"<pre>{html.escape(msg)}</pre></body></html>")


def visits(req):
    """A counter kept in the session (the class site.conf names: FileSession)."""
    session = Session.Session(req)
    session["visits"] = session.get("visits", 0) + 1
    session.save()
    req.content_type = "text/plain"
    return f"visits in this session: {session['visits']}\n"
