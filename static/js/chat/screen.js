// Hall screen: now, next, highlighted question, reactions (owned by the chat capability)
export function mount(root, client, ctx) {
  root.textContent = "";
}
