/** @module chat/schemas — HTTP params and bodies of the chat routes (WebSocket frames: protocol.ts). */
import { z } from 'zod'
import { ChannelParam } from '../channels/schemas.js'
import { ChatSettingsPatch } from './protocol.js'

export const ModeratorParam = ChannelParam.extend({
  username: z.string().regex(/^[a-z0-9_]{3,24}$/, 'is not a username'),
})

/** Every field optional; unknown fields are refused so a typo is not silently ignored. */
export const ChatSettingsBody = ChatSettingsPatch.strict()
