"""Pure text in and out: the seed format, URL and headline keys, duplicate groups, chart geometry.

No database and no Flask here.
"""
