#!/bin/sh
# Step 2: count the words written by step 1 and keep the most frequent ones.
set -eu
name=$(basename "$INPUT_FILE_PATH" .words)
echo "counting $STORAGE_OBJECT_KEY"
{
  echo "words: $(wc -l < "$INPUT_FILE_PATH")"
  echo "top ${TOP:-5}:"
  sort "$INPUT_FILE_PATH" | uniq -c | sort -rn | head -n "${TOP:-5}"
} > "$TMP_OUTPUT_DIR/$name.count"
