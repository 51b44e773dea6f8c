// Check-in scanner (owned by the attendance capability)
export function mount(root, client, ctx) {
  root.textContent = "";
}
