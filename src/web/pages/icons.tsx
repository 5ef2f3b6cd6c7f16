/** @module web/pages/icons — the few inline SVG icons the pages use (decorative: hidden from screen readers). */
import type { FC } from 'hono/jsx'

const Svg: FC<{ size?: number; children?: unknown }> = ({ size = 16, children }) => (
  <svg
    class="icon"
    width={size}
    height={size}
    viewBox="0 0 24 24"
    fill="none"
    stroke="currentColor"
    stroke-width="2"
    stroke-linecap="round"
    stroke-linejoin="round"
    aria-hidden="true"
    focusable="false"
  >
    {children}
  </svg>
)

export const EyeIcon: FC<{ size?: number }> = ({ size }) => (
  <Svg size={size}>
    <path d="M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12Z" />
    <circle cx="12" cy="12" r="3" />
  </Svg>
)

export const ClockIcon: FC<{ size?: number }> = ({ size }) => (
  <Svg size={size}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 7v5l3 2" />
  </Svg>
)

export const CopyIcon: FC<{ size?: number }> = ({ size }) => (
  <Svg size={size}>
    <rect x="9" y="9" width="12" height="12" rx="2" />
    <path d="M5 15V5a2 2 0 0 1 2-2h10" />
  </Svg>
)

export const BroadcastIcon: FC<{ size?: number }> = ({ size }) => (
  <Svg size={size}>
    <circle cx="12" cy="12" r="2" />
    <path d="M16.2 7.8a6 6 0 0 1 0 8.4M7.8 16.2a6 6 0 0 1 0-8.4M19.1 4.9a10 10 0 0 1 0 14.2M4.9 19.1a10 10 0 0 1 0-14.2" />
  </Svg>
)

export const HeartIcon: FC<{ size?: number }> = ({ size }) => (
  <Svg size={size}>
    <path d="M20.8 4.6a5.5 5.5 0 0 0-7.8 0L12 5.7l-1-1.1a5.5 5.5 0 0 0-7.8 7.8l1 1.1L12 21l7.8-7.5 1-1.1a5.5 5.5 0 0 0 0-7.8Z" />
  </Svg>
)

export const ChatIcon: FC<{ size?: number }> = ({ size }) => (
  <Svg size={size}>
    <path d="M21 12a8 8 0 0 1-11.6 7.1L3 21l1.9-6.4A8 8 0 1 1 21 12Z" />
  </Svg>
)

export const VolumeOffIcon: FC<{ size?: number }> = ({ size }) => (
  <Svg size={size}>
    <path d="M11 5 6 9H2v6h4l5 4V5Z" />
    <path d="m23 9-6 6M17 9l6 6" />
  </Svg>
)

export const Logo: FC = () => (
  <svg class="logo-mark" width="28" height="28" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="8" fill="#7c3aed" />
    <path d="M12 9.5v13l11-6.5-11-6.5Z" fill="#fff" />
  </svg>
)

export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#7c3aed"/><path d="M12 9.5v13l11-6.5-11-6.5Z" fill="#fff"/></svg>'
