// Chat panel (owned by the chat capability)
export function mount(root, client, ctx) {
  root.textContent = "";
}
