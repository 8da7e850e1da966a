#!/bin/sh
# Count the lines, words and bytes of the input file.
set -eu
if [ -z "${INPUT_FILE_PATH:-}" ]; then
  echo "no input file: pass --input FILE (or upload one to the input folder)"
  exit 0
fi
name=$(basename "$INPUT_FILE_PATH")
set -- $(wc -l -w -c < "$INPUT_FILE_PATH")
echo "$name: $1 lines, $2 words, $3 bytes"
printf '%s: %s\nlines %s\nwords %s\nbytes %s\n' "$REPORT_TITLE" "$name" "$1" "$2" "$3" > "$TMP_OUTPUT_DIR/$name.wc"
