#!/bin/sh
# Step 1 (AWS Batch): one frame per second of the video, as JPEG files.
set -eu
name=$(basename "$INPUT_FILE_PATH")
name=${name%.*}
echo "extracting frames of $STORAGE_OBJECT_KEY"
ffmpeg -hide_banner -loglevel error -i "$INPUT_FILE_PATH" -vf fps=1 "$TMP_OUTPUT_DIR/$name-%05d.jpg"
ls "$TMP_OUTPUT_DIR" | wc -l | xargs echo "frames:"
