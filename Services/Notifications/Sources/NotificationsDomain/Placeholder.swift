// The notifications rules and templates (issue 6) are written here.
