// Moderator agenda console (owned by the agenda capability)
export function mount(root, client, ctx) {
  root.textContent = "";
}
