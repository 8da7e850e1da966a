#!/bin/sh
# Runs inside the container once per input file.
name=$(basename "$INPUT_FILE_PATH")
echo "$GREETING from scar: processing $name"
{
  echo "$GREETING, $(cat "$INPUT_FILE_PATH")!"
  echo "($(wc -c < "$INPUT_FILE_PATH") bytes processed)"
} > "$TMP_OUTPUT_DIR/$name.out"
