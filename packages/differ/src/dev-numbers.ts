/** Linux dev_t → major/minor (glibc's encoding; Node hands out rdev as a number). */
export function majorOf(rdev: number): number {
  return Math.floor(rdev / 0x100) % 0x1000 | (Math.floor(rdev / 0x100000000) & ~0xfff);
}

export function minorOf(rdev: number): number {
  return (rdev % 0x100) | (Math.floor(rdev / 0x1000) & ~0xff & 0xffffffff);
}
