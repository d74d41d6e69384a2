import { scramServer } from '../../test-support/scram-server';
import { ScramClient, ScramError } from './scram';

describe('SCRAM client', () => {
  it('computes RFC 7677\'s SCRAM-SHA-256 example exactly, and accepts its server signature', () => {
    const c = new ScramClient('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(c.first()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(c.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'))
      .toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(() => c.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
  });

  it('refuses a server signature that is not the one the password gives (a server without the credentials)', () => {
    const c = new ScramClient('sha256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    c.first();
    c.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    expect(() => c.verify('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(ScramError);
    expect(() => c.verify('e=other-error')).toThrow(/refused the SCRAM proof: other-error/);
  });

  it('completes a SCRAM-SHA-512 exchange with a server holding the credentials, and fails one with another password', () => {
    const user = { name: 'svc', password: 'pässwörd' };
    const server = scramServer('sha512', user);
    const c = new ScramClient('sha512', user.name, user.password);
    c.verify(server.final(c.final(server.first(c.first()))));
    expect(server.state.proofOk).toBe(true);

    const wrong = new ScramClient('sha512', user.name, 'wrong');
    const s2 = scramServer('sha512', user);
    expect(s2.final(wrong.final(s2.first(wrong.first())))).toBe('e=invalid-proof');
    expect(s2.state.proofOk).toBe(false);
  });

  it('escapes "=" and "," in the user name (RFC 5802 5.1)', () => {
    expect(new ScramClient('sha512', 'a,b=c', 'p', 'n0').first()).toBe('n,,n=a=2Cb=3Dc,r=n0');
  });

  it('refuses a server nonce that does not extend its own, and a malformed first message', () => {
    const c = new ScramClient('sha256', 'user', 'pencil', 'abc');
    c.first();
    expect(() => c.final('r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toThrow(/does not extend ours/);
    expect(() => c.final('r=abc123,s=W22ZaJ0SNY7soEsUEjb6gQ==')).toThrow(/malformed/);
  });
});

