import { describe, expect, it } from 'vitest'
import { firstOccurrence, PublishForm, parseHookForm, UpdateForm } from './form.js'

// What Debian's nginx-rtmp sent when ffmpeg published to `live/KEY?name=evil&call=play` (DESIGN.md).
const INJECTED =
  'app=live&flashver=FMLE%2F3.0%20(compatible%3B%20FMSc%2F1.0)&swfurl=&tcurl=rtmp%3A%2F%2F127.0.0.1%3A1935%2Flive&pageurl=&addr=127.0.0.1&clientid=7&call=publish&name=KEY&type=live&name=evil&call=play'

describe('hook form parsing', () => {
  it('keeps the first occurrence of each field: nginx’s own, not the publisher’s', () => {
    const f = firstOccurrence(INJECTED)
    expect(f.name).toBe('KEY')
    expect(f.call).toBe('publish')
    expect(f.clientid).toBe('7')
    expect(parseHookForm(PublishForm, INJECTED)).toMatchObject({
      name: 'KEY',
      call: 'publish',
      app: 'live',
      clientid: '7',
    })
  })

  it('decodes percent- and plus-encoding', () => {
    expect(firstOccurrence('name=a%2Bb+c&x=1')).toEqual({ name: 'a+b c', x: '1' })
  })

  it('rejects bodies that are not a publish of the live app', () => {
    expect(parseHookForm(PublishForm, 'app=hls&call=publish&name=k&clientid=1')).toBeNull()
    expect(parseHookForm(PublishForm, 'app=live&call=play&name=k&clientid=1')).toBeNull()
    expect(parseHookForm(PublishForm, 'app=live&call=publish&name=k&clientid=1a')).toBeNull()
    expect(parseHookForm(PublishForm, 'app=live&call=publish&clientid=1')).toBeNull()
    expect(parseHookForm(PublishForm, `app=live&call=publish&clientid=1&name=${'x'.repeat(300)}`)).toBeNull()
    expect(parseHookForm(UpdateForm, 'app=live&call=update_publish&name=k')).toBeNull()
  })

  it('never throws on garbage', () => {
    for (const body of ['', '&&&', '%', '%zz=1', '=', 'a=%E0%A4%A', '\u0000=\u0000']) {
      expect(() => parseHookForm(PublishForm, body)).not.toThrow()
    }
  })
})
