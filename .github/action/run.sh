#!/usr/bin/env bash
# The command step of action.yml: run one identity-reconciler command with --format github and
# leave for the next steps what they need (step outputs: exit-code, changes, drift, markdown,
# plan-json). Plan and drift exit 2 when there is something to do; that is not a failure here.
# Inputs come as environment variables: COMMAND, SPECS (space-separated), CLOUD, PLAN_FILE,
# REVIEWED (the downloaded artifact's folder, for apply) and FLAGS (apply's --allow-* flags).
set -uo pipefail

read -ra specs <<< "${SPECS:-specs/}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
markdown="${PLAN_FILE%.json}.md"
rc=0

case "$COMMAND" in
  validate)
    identity-reconciler validate "${specs[@]}" --format github || rc=$?
    ;;
  plan)
    # --format github: annotations, the text plan for the log, and the markdown plan written
    # to the "step summary", which here is the file the comment and the artifact take.
    : > "$markdown"
    GITHUB_STEP_SUMMARY="$markdown" identity-reconciler plan "${specs[@]}" --cloud "$CLOUD" \
      --format github --out "$PLAN_FILE" --detailed-exitcode || rc=$?
    cat "$markdown" >> "$summary"
    echo "plan-json=$PLAN_FILE" >> "$GITHUB_OUTPUT"
    echo "markdown=$markdown" >> "$GITHUB_OUTPUT"
    case "$rc" in
      0) echo "changes=false" >> "$GITHUB_OUTPUT" ;;
      2) echo "changes=true" >> "$GITHUB_OUTPUT" ;;
    esac
    ;;
  apply)
    plan="$PLAN_FILE"
    if [ -n "${REVIEWED:-}" ] && [ -f "$REVIEWED/$(basename "$PLAN_FILE")" ]; then
      plan="$REVIEWED/$(basename "$PLAN_FILE")"
    fi
    if [ -f "${plan%.json}.md" ]; then
      cat "${plan%.json}.md" >> "$summary"
    fi
    read -ra flags <<< "${FLAGS:-}"
    identity-reconciler apply "$plan" --cloud "$CLOUD" --specs "${specs[@]}" "${flags[@]}" \
      || rc=$?
    ;;
  drift)
    markdown="drift.md"
    : > "$markdown"
    GITHUB_STEP_SUMMARY="$markdown" identity-reconciler drift "${specs[@]}" --cloud "$CLOUD" \
      --format github || rc=$?
    cat "$markdown" >> "$summary"
    echo "markdown=$markdown" >> "$GITHUB_OUTPUT"
    case "$rc" in
      0) echo "drift=false" >> "$GITHUB_OUTPUT" ;;
      2) echo "drift=true" >> "$GITHUB_OUTPUT" ;;
    esac
    ;;
  *)
    echo "::error title=identity-reconciler::unknown command '$COMMAND'"
    rc=1
    ;;
esac

echo "exit-code=$rc" >> "$GITHUB_OUTPUT"
if [ "$rc" -eq 2 ] && { [ "$COMMAND" = plan ] || [ "$COMMAND" = drift ]; }; then
  exit 0
fi
exit "$rc"
