// Stage player (WHEP) (owned by the media capability)
export function mount(root, client, ctx) {
  root.textContent = "";
}
