"""Size and depth caps applied to mail before anything is parsed.

A reply is a few forms of a few hundred KB each. The caps leave wide headroom for that
and stop a hostile or broken message (huge body, zip bomb, endless forwarding) from
exhausting memory or disk.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    #: Whole message as received (MIME or .msg). Exchange's default limit is 25-35 MB.
    max_message_bytes: int = 40 * 1024 * 1024
    #: One attachment after MIME decoding, or one file inside a zip after inflating.
    max_attachment_bytes: int = 20 * 1024 * 1024
    #: message/rfc822 (or attached .msg/.eml) nesting followed: the reply itself is level 0.
    max_depth: int = 3
    #: Files looked at inside one .zip attachment.
    max_zip_members: int = 200
    #: Total inflated bytes taken out of one .zip attachment.
    max_zip_total_bytes: int = 100 * 1024 * 1024
    #: Highest inflate ratio for a zip member; documents compress 2-30x, bombs 1000x+.
    max_zip_ratio: int = 200
    #: Attachments taken from one message (all levels together).
    max_attachments: int = 500


DEFAULT_LIMITS = Limits()
