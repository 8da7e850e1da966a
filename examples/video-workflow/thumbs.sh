#!/bin/sh
# Step 2 (Lambda): keep a copy of each frame under thumbs/ with its size in the name; replace this with any
# image tool the container image has (ImageMagick's convert -resize, for example).
set -eu
name=$(basename "$INPUT_FILE_PATH" .jpg)
size=$(wc -c < "$INPUT_FILE_PATH" | tr -d ' ')
cp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/$name-$size.jpg"
echo "thumbnail of $STORAGE_OBJECT_KEY ($size bytes)"
