// Attendee agenda: now, next, countdown, programme (owned by the agenda capability)
export function mount(root, client, ctx) {
  root.textContent = "";
}
