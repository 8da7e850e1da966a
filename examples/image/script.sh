#!/bin/sh
# Upper-cases the input file; the result goes to stdout (and to $TMP_OUTPUT_DIR, uploaded to the outputs).
echo "$MESSAGE: $(tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH")"
tr 'a-z' 'A-Z' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$(basename "$INPUT_FILE_PATH")"
