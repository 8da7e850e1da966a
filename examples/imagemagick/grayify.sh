#!/bin/sh
# Runs once per uploaded image: a grayscale copy goes to the output folder.
set -e
name=$(basename "$INPUT_FILE_PATH")
echo "converting $name to grayscale"
convert "$INPUT_FILE_PATH" -type Grayscale "$TMP_OUTPUT_DIR/$name"
