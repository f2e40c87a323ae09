"""One module per schema revision; each revision's id is its file's number."""
