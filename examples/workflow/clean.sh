#!/bin/sh
# Step 1: lower-case the text and put one word per line.
set -eu
name=$(basename "$INPUT_FILE_PATH" .txt)
echo "cleaning $STORAGE_OBJECT_KEY"
tr 'A-Z' 'a-z' < "$INPUT_FILE_PATH" | tr -cs 'a-z0-9' '\n' | sed '/^$/d' > "$TMP_OUTPUT_DIR/$name.words"
