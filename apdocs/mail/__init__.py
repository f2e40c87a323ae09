"""Mail: pack personalised forms for schools, send them, ingest the replies.

``pack`` (apdocs.mail.pack), ``send`` (apdocs.mail.send) and ``ingest``
(apdocs.mail.ingest) are the three steps; the archive (apdocs.mail.archive) keeps
every original once, under its SHA-256.
"""
